// A throwaway CA and a serving certificate for the webhook tests and benchmark, made with
// the openssl CLI (node:crypto cannot issue X.509 certificates). The API server checks
// the IP SAN when it calls https://127.0.0.1:<port>, so the leaf carries IP:127.0.0.1.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCert {
  caFile: string;
  certFile: string;
  keyFile: string;
  caPem: string;
  /** base64 of the CA PEM: what a webhook configuration's caBundle holds. */
  caBundle: string;
}

export async function makeServingCert(dir: string, opts: { days?: number; dnsNames?: string[] } = {}): Promise<ServingCert> {
  const days = String(opts.days ?? 2);
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  const keyFile = path.join(dir, 'tls.key');
  const csr = path.join(dir, 'tls.csr');
  const certFile = path.join(dir, 'tls.crt');
  const ext = path.join(dir, 'tls.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', days, '-subj', '/CN=potoo-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=potoo-webhook']);
  const sans = ['IP:127.0.0.1', ...(opts.dnsNames ?? ['potoo-webhook.potoo-system.svc']).map((d) => `DNS:${d}`)];
  await writeFile(ext, [`subjectAltName=${sans.join(',')}`, 'basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', days, '-extfile', ext]);
  const caPem = await readFile(caFile, 'utf8');
  return { caFile, certFile, keyFile, caPem, caBundle: Buffer.from(caPem).toString('base64') };
}
