// Stops only the servers this run started; KEEP_STACK=1 leaves them up for a faster next run.
export default async function globalTeardown() {
  const stack = globalThis.__SWITCHBOARD_STACK__;
  if (stack && process.env.KEEP_STACK !== '1') await stack.stop();
}
