// Runs s3rver (a real S3 protocol server, npm `s3rver`) for the storage tests, in its own process.
// It must run with NODE_OPTIONS=--openssl-legacy-provider: s3rver encrypts ListObjectsV2
// continuation tokens with DES (controllers/bucket.js generateContinuationToken), which OpenSSL 3
// only offers through the legacy provider, so listing past one page fails without it.
// Prints one JSON line {"port":N} when listening; exits when stdin closes or on SIGTERM.
import S3rver from 's3rver';

const [dir, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dir,
  configureBuckets: buckets.map((name) => ({ name })),
});
const addr = await server.run();
process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
