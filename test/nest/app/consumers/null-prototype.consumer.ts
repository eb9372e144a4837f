/** A useValue provider without a prototype: the explorer must skip it, not crash on it. */
export const NULL_PROTOTYPE_VALUE = 'NULL_PROTOTYPE_VALUE';
export const nullPrototypeProvider = {
  provide: NULL_PROTOTYPE_VALUE,
  useValue: Object.assign(Object.create(null) as object, { kind: 'null-prototype' }),
};
