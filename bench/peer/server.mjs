// The peer of bench/run.py scenario 6: node-oidc-provider (OpenID Certified) issuing RS256 JWT
// access tokens for client_credentials, on loopback, with as many worker processes as gunicorn.
//   node server.mjs PORT WORKERS CLIENT_ID CLIENT_SECRET
import cluster from 'node:cluster';
import { generateKeyPairSync } from 'node:crypto';
import process from 'node:process';

import Provider from 'oidc-provider';

const [port, workers, clientId, clientSecret] = process.argv.slice(2);
const RESOURCE = 'https://api.example.com';

if (cluster.isPrimary) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'RS256', use: 'sig' });
  for (let i = 0; i < Number(workers); i += 1) cluster.fork({ BENCH_JWK: jwk });
  const stop = () => { for (const worker of Object.values(cluster.workers)) worker.kill(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [JSON.parse(process.env.BENCH_JWK)] },
    scopes: ['read'],
    ttl: { ClientCredentials: 900 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        getResourceServerInfo: () => ({
          scope: 'read',
          accessTokenFormat: 'jwt',
          accessTokenTTL: 900,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  provider.listen(Number(port), '127.0.0.1');
}
