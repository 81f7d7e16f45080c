// The floor: the least a durable HTTP -> RabbitMQ -> PostgreSQL pipeline must do on this machine, with no auth,
// validation, mapping or framework. Two processes like ours: `gateway` (Fastify -> publish with confirms to a
// quorum queue -> 202) and `consumer` (prefetch, batched INSERT of the raw bodies, ack after commit).
// Run by test/bench/run.mjs; usage: node floor.mjs gateway|consumer (config from env).
import Fastify from 'fastify';
import amqp from 'amqplib';
import pg from 'pg';

const { FLOOR_QUEUE: queue, AMQP_URL, DATABASE_URL, FLOOR_PORT } = process.env;
const role = process.argv[2];

async function gateway() {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const app = Fastify({ bodyLimit: 1_048_576 });
  app.get('/health', async () => ({ ok: true }));
  app.post('/floor', async (req, reply) => {
    const body = Buffer.from(JSON.stringify(req.body));
    await new Promise((resolve, reject) =>
      ch.publish('', queue, body, { persistent: true, mandatory: true }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    // The bench matches a 202 to its request by the echoed X-Request-Id, as our apps echo it (load.mjs).
    return reply.code(202).header('x-request-id', req.headers['x-request-id']).send({ ok: true });
  });
  await app.listen({ port: Number(FLOOR_PORT), host: '127.0.0.1' });
}

async function consumer() {
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  await db.query(
    'CREATE TABLE IF NOT EXISTS floor_events (id bigserial PRIMARY KEY, body jsonb NOT NULL, at timestamptz DEFAULT now())',
  );
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.prefetch(500);
  let batch = [];
  let timer = null;
  const flush = async () => {
    timer = null;
    const msgs = batch;
    batch = [];
    if (!msgs.length) return;
    await db.query('INSERT INTO floor_events (body) SELECT unnest($1::jsonb[])', [
      msgs.map((m) => m.content.toString()),
    ]);
    for (const m of msgs) ch.ack(m);
  };
  await ch.consume(queue, (m) => {
    batch.push(m);
    if (batch.length >= 200) void flush();
    else timer ??= setTimeout(() => void flush(), 5);
  });
  // readiness for the driver
  const app = Fastify();
  app.get('/health', async () => ({ ok: true }));
  await app.listen({ port: Number(FLOOR_PORT), host: '127.0.0.1' });
}

(role === 'gateway' ? gateway() : consumer()).catch((err) => {
  console.error(err);
  process.exit(1);
});
