import { DecodeError } from '../errors/errors.js';

/**
 * Deflate's largest possible expansion is about 1032:1 (a 258-byte match in two 1-bit codes),
 * so `n` compressed bytes never inflate to more than `n * MAX_DEFLATE_RATIO` (+ a few bytes).
 */
export const MAX_DEFLATE_RATIO = 1032;

/** The error thrown when a message would inflate past its cap. */
export function inflatedTooLarge(limit: number): DecodeError {
  return new DecodeError(
    `Inflated gateway message exceeds limits.maxInflatedBytes (${limit} bytes); not decoded (decompression bomb cap)`,
  );
}

/** The error thrown by an inflater that failed or was closed before. */
export function inflaterUnusable(implementation: string, closed: boolean): DecodeError {
  return new DecodeError(
    closed
      ? `The ${implementation} inflater was closed`
      : `The ${implementation} inflater failed earlier; its connection needs a new one`,
  );
}

/** Checks a caller-supplied cap once, at construction. */
export function checkMaxInflatedBytes(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError('limits.maxInflatedBytes must be a positive integer (bytes)');
  }
  return value;
}
