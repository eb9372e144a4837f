/*
 * Runs catalogue cases in this process, one after another, and prints one line per case:
 * `CASE {json}` (an Observation). Usage: node --import tsx child.ts <case id>...
 *
 * No uncaughtException handler is installed unless CATALOGUE_UNCAUGHT_HANDLER=1, which plays an
 * application that has one: then what it catches is counted per case, and the run goes on.
 */
import { describeError } from '../../../lib/gateway/errors/errors.js';
import { CASES } from './cases.js';
import { CaseContext, loadCore, type Observation } from './support.js';

const uncaught: string[] = [];
if (process.env.CATALOGUE_UNCAUGHT_HANDLER === '1') {
  process.on('uncaughtException', (error) => uncaught.push(describeError(error)));
}

const core = await loadCore();
for (const id of process.argv.slice(2)) {
  const hostile = CASES.find((c) => c.id === id);
  if (hostile === undefined) throw new Error(`no catalogue case ${id}`);
  const ctx = new CaseContext(core);
  const started = performance.now();
  const caughtBefore = uncaught.length;
  try {
    await hostile.run(ctx);
  } catch (error) {
    ctx.failures.push(`the case threw: ${describeError(error)}`);
  }
  const { stuck, states } = await ctx.end();
  if (process.env.CATALOGUE_UNCAUGHT_HANDLER === '1') {
    ctx.fact('uncaughtExceptions', uncaught.length - caughtBefore);
    if (uncaught.length > caughtBefore)
      ctx.fact('firstUncaught', uncaught[caughtBefore]!.slice(0, 200));
  }
  const observation: Observation = {
    id,
    failures: ctx.failures,
    facts: ctx.facts,
    stuck,
    states,
    ms: Math.round(performance.now() - started),
  };
  process.stdout.write(`CASE ${JSON.stringify(observation)}\n`);
}
