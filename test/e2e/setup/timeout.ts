jest.setTimeout(Number(process.env.TEST_TIMEOUT_MS ?? 180_000));
