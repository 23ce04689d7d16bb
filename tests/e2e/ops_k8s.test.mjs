// deploy/k8s, checked without a cluster (none runs here): every file parses as YAML; each
// service has a Deployment with HTTP probes (the gateway on its public port; the backends on their
// metrics port, where /readyz is their grpc.health.v1 status: the kubelet's grpc probe cannot
// present the client certificate mutual TLS requires), scrape annotations, its own TLS Secret, a
// Service, a HorizontalPodAutoscaler and a PodDisruptionBudget that select it; the NetworkPolicies, evaluated, let only the gateway reach the services (and mfa
// and auth reach delivery); the ConfigMap's TOML is deploy/idp.toml with only the listed differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { root } from './support/cluster.mjs';
import { parseYamlAll, parseTomlFlat, effectiveConfig, compareConfigs, portOf } from './support/ops_config.mjs';

const dir = path.join(root, 'deploy/k8s');
const SERVICES = ['auth', 'mfa', 'delivery', 'token', 'gateway'];
const BACKENDS = ['auth', 'mfa', 'delivery', 'token'];
const SECRETS = {
  auth: ['PGPASSWORD'], mfa: ['IDP_MASTER_KEY', 'PGPASSWORD'], delivery: ['IDP_MASTER_KEY'],
  token: ['IDP_MASTER_KEY', 'PGPASSWORD'], gateway: [],
};

const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const docs = files.flatMap((f) => parseYamlAll(readFileSync(path.join(dir, f), 'utf8')).map((d) => ({ ...d, file: f })));
const find = (kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
const configMap = find('ConfigMap', 'idp-config');
const k8sToml = parseTomlFlat(configMap?.data?.['idp.toml'] ?? '');
const runToml = parseTomlFlat(readFileSync(path.join(root, 'deploy/idp.toml'), 'utf8'));

test('every manifest parses, is namespaced in idp, and kustomization.yaml lists them all', () => {
  assert.ok(files.length >= 8, `found ${files.length} YAML files`);
  for (const d of docs) {
    if (d.kind === 'Kustomization') continue;
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.file}: a complete object`);
    if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, 'idp', `${d.file}: ${d.kind}/${d.metadata.name} is in idp`);
  }
  const kustomization = docs.find((d) => d.kind === 'Kustomization');
  assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'kustomization.yaml'));
  const ns = find('Namespace', 'idp');
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
});

for (const name of SERVICES) {
  test(`${name}: Deployment with probes on its port, Service, HPA and PDB that select it`, () => {
    const port = portOf(k8sToml.get(`${name}.listen`));
    assert.ok(port > 0, `the ConfigMap names ${name}.listen`);
    const dep = find('Deployment', name);
    assert.ok(dep, `Deployment ${name}`);
    const podLabels = dep.spec.template.metadata.labels;
    assert.ok(matches(dep.spec.selector.matchLabels, podLabels), 'the selector selects its pods');
    assert.equal(dep.spec.replicas, undefined, 'the replica count is the autoscaler\'s');
    const pod = dep.spec.template.spec;
    const [c] = pod.containers;
    assert.deepEqual(c.args, [`idp-${name}`]);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    assert.equal(env.IDP_CONFIG, '/etc/idp/idp.toml');
    assert.equal(env[`IDP_${name.toUpperCase()}_LISTEN`], `0.0.0.0:${port}`, 'it listens on all interfaces, on the configured port');
    assert.deepEqual(Object.keys(env).sort(), ['IDP_CONFIG', `IDP_${name.toUpperCase()}_LISTEN`].sort(), 'everything else comes from the ConfigMap');
    assert.equal(c.ports[0].containerPort, port);
    // /metrics on the port metrics_listen names, announced for scraping.
    const metricsPort = portOf(k8sToml.get(`${name}.metrics_listen`));
    assert.equal(k8sToml.get(`${name}.metrics_listen`), `0.0.0.0:${metricsPort}`);
    assert.ok(c.ports.some((p) => p.name === 'metrics' && p.containerPort === metricsPort), 'a port named metrics');
    assert.notEqual(metricsPort, port);
    const ann = dep.spec.template.metadata.annotations ?? {};
    assert.deepEqual([ann['prometheus.io/scrape'], ann['prometheus.io/port'], ann['prometheus.io/path']],
      ['true', String(metricsPort), '/metrics']);
    // Mutual TLS: its own certificate Secret where rpc.tls_* point.
    const tlsVol = pod.volumes.find((v) => v.secret?.secretName === `idp-tls-${name}`);
    assert.ok(tlsVol, `${name} mounts the Secret idp-tls-${name}`);
    assert.ok(c.volumeMounts.some((m) => m.name === tlsVol.name && m.mountPath === '/etc/idp-tls' && m.readOnly));
    assert.equal(tlsVol.secret.defaultMode & 0o007, 0, 'the key is not world-readable');
    for (const k of ['cert', 'key', 'ca']) assert.ok(k8sToml.get(`rpc.tls_${k}`)?.startsWith('/etc/idp-tls/'));
    const configVol = pod.volumes.find((v) => v.configMap?.name === 'idp-config');
    assert.ok(c.volumeMounts.some((m) => m.name === configVol.name && m.mountPath === '/etc/idp' && m.readOnly));
    if (name === 'gateway') {
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port });
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port });
    } else {
      const metricsPort = portOf(k8sToml.get(`${name}.metrics_listen`));
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: metricsPort }, 'readiness: grpc.health.v1 status over HTTP');
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: metricsPort }, 'liveness: the process serves');
      assert.equal(c.readinessProbe.grpc, undefined, 'no native grpc probe: it cannot do mutual TLS');
    }
    assert.ok(c.startupProbe, 'a startup probe covers migrations and first-start key creation');
    assert.ok(c.livenessProbe.failureThreshold > c.readinessProbe.failureThreshold ||
      c.livenessProbe.periodSeconds > c.readinessProbe.periodSeconds, 'liveness is slower to act than readiness');
    // Non-root, read-only, no privileges: what the image (USER 10001) and Pod Security ask.
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);
    // Only the secrets it needs, as files for the entrypoint, readable by the pod's group.
    const secretVol = pod.volumes.find((v) => v.secret?.secretName === 'idp-secrets');
    const keys = secretVol ? secretVol.secret.items.map((i) => i.key).sort() : [];
    assert.deepEqual(keys, SECRETS[name], `${name} gets exactly ${SECRETS[name].join(', ') || 'no secret'}`);
    if (secretVol) {
      assert.equal(secretVol.secret.secretName, 'idp-secrets');
      assert.ok(c.volumeMounts.some((m) => m.name === secretVol.name && m.mountPath === '/run/secrets'));
      assert.equal(secretVol.secret.defaultMode & 0o040, 0o040, 'group-readable (fsGroup)');
      assert.equal(secretVol.secret.defaultMode & 0o007, 0, 'not world-readable');
      assert.equal(pod.securityContext.fsGroup, 10001);
    }

    const svc = find('Service', name);
    assert.ok(svc && matches(svc.spec.selector, podLabels), `Service ${name} selects the pods`);
    assert.equal(svc.spec.ports[0].targetPort, c.ports[0].name);
    if (BACKENDS.includes(name)) {
      assert.equal(svc.spec.clusterIP, 'None', 'headless: gRPC balances over every pod');
      assert.equal(svc.spec.ports[0].port, port, 'callers use the configured port');
    }
    const hpa = find('HorizontalPodAutoscaler', name);
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name });
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    const pdb = find('PodDisruptionBudget', name);
    assert.ok(matches(pdb.spec.selector.matchLabels, podLabels), 'the budget covers the pods');
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < hpa.spec.minReplicas, 'a node drain can proceed one pod at a time');
  });
}

test('NetworkPolicies, evaluated: only the gateway reaches the services, and mfa and auth reach delivery', () => {
  const policies = docs.filter((d) => d.kind === 'NetworkPolicy');
  const labels = Object.fromEntries(SERVICES.map((s) => [s, find('Deployment', s).spec.template.metadata.labels]));
  labels.outside = {};  // a client beyond the namespace (through the Service or Ingress)
  const allowed = (from, to, port) => {
    const selecting = policies.filter((p) => (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') &&
      matches(p.spec.podSelector?.matchLabels, labels[to]));
    if (selecting.length === 0) return true;  // not isolated
    return selecting.some((p) => (p.spec.ingress ?? []).some((rule) => {
      const portOk = !rule.ports || rule.ports.some((x) => x.port === port && (x.protocol ?? 'TCP') === 'TCP');
      const fromOk = !rule.from || rule.from.some((peer) => peer.podSelector && !peer.namespaceSelector &&
        from !== 'outside' && matches(peer.podSelector.matchLabels, labels[from]));
      return portOk && fromOk;
    }));
  };
  const expected = {
    gateway: ['auth', 'mfa', 'delivery', 'token', 'gateway', 'outside'],
    auth: ['gateway'], mfa: ['gateway'], delivery: ['gateway', 'mfa', 'auth'], token: ['gateway'],
  };
  for (const to of SERVICES) {
    const port = portOf(k8sToml.get(`${to}.listen`));
    const from = [...SERVICES, 'outside'].filter((f) => allowed(f, to, port));
    assert.deepEqual(from.sort(), expected[to].sort(), `who reaches ${to}:${port}`);
    assert.equal(allowed('gateway', to, 9999), false, `no other port of ${to} is open`);
    // The metrics port: nobody in the namespace (Prometheus comes from the namespace monitoring).
    const metricsPort = portOf(k8sToml.get(`${to}.metrics_listen`));
    assert.deepEqual([...SERVICES, 'outside'].filter((f) => allowed(f, to, metricsPort)), [], `nobody here reaches ${to}:${metricsPort}`);
  }
  const monitoring = policies.find((p) => p.metadata.name === 'metrics-from-monitoring');
  assert.deepEqual(monitoring.spec.ingress[0].from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
  const metricsPorts = SERVICES.map((s) => portOf(k8sToml.get(`${s}.metrics_listen`))).sort();
  assert.deepEqual(monitoring.spec.ingress[0].ports.map((p) => p.port).sort(), metricsPorts, 'monitoring reaches exactly the metrics ports');
});

test('the ConfigMap is deploy/idp.toml with the cluster\'s addresses and production providers only', (t) => {
  const same = (a, b) => {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.username === y.username && x.pathname === y.pathname;
  };
  const ALLOWED = [
    { keys: /^issuer$/, why: 'the public https URL', ok: (c) => /^https:\/\/[^/]+$/.test(c) },
    { keys: /^(auth|mfa|delivery|token|gateway)\.listen$/, why: 'each service by its Service name, same port (pods listen on 0.0.0.0)', ok: (c, r, key) => c === `${key.split('.')[0]}:${portOf(r)}` },
    { keys: /^(auth|mfa|delivery|token|gateway)\.metrics_listen$/, why: 'metrics on all interfaces of the pod (NetworkPolicy: the namespace monitoring only), same port', ok: (c, r) => c === `0.0.0.0:${portOf(r)}` },
    {
      keys: /^rpc\.tls_(cert|key|ca)$/,
      why: 'mutual TLS between the services, each pod with its own Secret idp-tls-<service> (make run: plaintext on loopback)',
      ok: (c, r, key) => r === undefined && c === { 'rpc.tls_cert': '/etc/idp-tls/tls.crt', 'rpc.tls_key': '/etc/idp-tls/tls.key', 'rpc.tls_ca': '/etc/idp-tls/ca.crt' }[key],
    },
    { keys: /^postgres\.dsn$/, why: 'your PostgreSQL; same user and database', ok: same },
    { keys: /^redis\.url$/, why: 'your Redis; same database', ok: same },
    {
      keys: /^delivery\.(email_provider|smtp_url|smtp_starttls|sms_provider)$/,
      why: 'production providers: an SMTP relay with STARTTLS instead of files; no SMS provider until one is configured',
      ok: (c, r, key) => ({
        'delivery.email_provider': c === 'smtp', 'delivery.smtp_url': /^smtps?:\/\//.test(c ?? ''),
        'delivery.smtp_starttls': c === 'required', 'delivery.sms_provider': c === 'none' || c === 'twilio',
      })[key] === true,
    },
  ];
  const diffs = compareConfigs(runToml, k8sToml, ALLOWED);
  for (const d of diffs) t.diagnostic(`${d.key}: make run ${JSON.stringify(d.reference)}, k8s ${JSON.stringify(d.other)} (${d.allowedBy ?? 'NOT ALLOWED'})`);
  assert.deepEqual(diffs.filter((d) => !d.allowedBy), []);
  // The gateway's upstreams (defaults: the services' listen addresses) are the Service names.
  const gw = effectiveConfig(k8sToml, { IDP_GATEWAY_LISTEN: '0.0.0.0:8080' }).values;
  for (const s of BACKENDS) assert.equal(gw.get(`gateway.${s}`), `${s}:${portOf(runToml.get(`${s}.listen`))}`);
});

test('the Secret holds IDP_MASTER_KEY and PGPASSWORD, and its placeholder fails closed', () => {
  const secret = find('Secret', 'idp-secrets');
  assert.deepEqual(Object.keys(secret.stringData).sort(), ['IDP_MASTER_KEY', 'PGPASSWORD']);
  const key = secret.stringData.IDP_MASTER_KEY;
  // Not 32 bytes in hex or base64: token and mfa refuse to start until it is replaced.
  assert.doesNotMatch(key, /^[0-9a-fA-F]{64}$/);
  assert.notEqual(Buffer.from(key, 'base64').length, 32);
});
