import { parseArgs } from 'node:util';
import { startS3Store } from './s3-store.server.js';

// Runs the loopback S3 store as its own process for the launcher:
//   node dist/s3-store.main.js --port 9000 --dir .data/s3 --bucket wacrm-media
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    dir: { type: 'string' },
    bucket: { type: 'string', default: 'wacrm-media' },
  },
  strict: true,
});
const port = Number(values.port);
if (values.dir === undefined || !Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write('usage: s3-store.main.js --dir DIR [--port N] [--bucket NAME]\n');
  process.exit(64);
}
const handle = await startS3Store({ directory: values.dir, port, bucket: values.bucket });
process.stdout.write(
  `${JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: 's3 store ready', endpoint: handle.endpoint, bucket: handle.bucket })}\n`,
);
const stop = () => void handle.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
