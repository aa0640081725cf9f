import type { FieldError } from '../../../lambdas/domain/errors.js';
import { validateLayers, type Layer } from '../../../lambdas/domain/profile.js';

const os: Layer = { type: 'os', pack: 'ubuntu', version: '22.04' };
const k3s: Layer = { type: 'k8s', pack: 'k3s', version: 'v1.30.4+k3s1' };
const calico: Layer = { type: 'cni', pack: 'calico', version: '3.28.0' };
const cilium: Layer = { type: 'cni', pack: 'cilium', version: '1.16.0' };
const longhorn: Layer = { type: 'csi', pack: 'longhorn', version: '1.7.0' };
const localPath: Layer = { type: 'csi', pack: 'local-path', version: '0.0.28' };
const nginx: Layer = { type: 'addon', pack: 'ingress-nginx', version: '4.11.0' };
const certManager: Layer = { type: 'addon', pack: 'cert-manager', version: '1.15.0', values: 'installCRDs: true\n' };
const alpine: Layer = { type: 'os', pack: 'alpine', version: '3.20' };
const rke2: Layer = { type: 'k8s', pack: 'rke2', version: 'v1.30.4+rke2r1' };

const paths = (errors: readonly FieldError[]) => errors.map((e) => e.path);

describe('validateLayers()', () => {
  it.each([
    ['os + k8s', [os, k3s]],
    ['full stack', [os, k3s, calico, longhorn, nginx, certManager]],
    ['no cni or csi', [os, k3s, nginx]],
    ['two different add-ons', [os, k3s, nginx, certManager]],
    ['alpine with k3s', [alpine, k3s]],
  ])('accepts %s', (_label, layers) => {
    expect(validateLayers(layers).errors).toEqual([]);
  });

  it.each([
    ['no os layer', [k3s, calico], 'layers', /needs exactly one os layer, found 0/],
    ['no k8s layer', [os, calico], 'layers', /needs exactly one k8s layer, found 0/],
    ['neither os nor k8s', [nginx], 'layers', /needs exactly one os layer, found 0/],
    ['two os layers', [os, { ...os, pack: 'debian', version: '12' }, k3s], 'layers', /needs exactly one os layer, found 2/],
    ['two k8s layers', [os, k3s, rke2], 'layers', /needs exactly one k8s layer, found 2/],
    ['two cni layers', [os, k3s, calico, cilium], 'layers', /at most one cni layer, found 2/],
    ['two csi layers', [os, k3s, longhorn, localPath], 'layers', /at most one csi layer, found 2/],
    ['duplicate add-on pack', [os, k3s, nginx, certManager, { ...nginx, version: '4.12.0' }], 'layers.4.pack', /addon pack "ingress-nginx" appears twice/],
    ['incompatible os × k8s (openrc + rke2)', [alpine, rke2], 'layers', /rke2 needs systemd/],
    ['incompatible os × k8s (cgroup v1)', [{ ...os, version: '20.04' }, { ...k3s, version: 'v1.31.0+k3s1' }], 'layers', /cgroup v1/],
    ['k8s version out of range', [os, { ...k3s, version: '1.27.0' }], 'layers', /outside the validated range/],
    ['unknown os pack', [{ ...os, pack: 'windows' }, k3s], 'layers', /unknown OS pack/],
  ] as const)('refuses %s (path %s)', (_label, layers, path, message) => {
    const { errors } = validateLayers(layers);
    expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('reports every problem at once', () => {
    const { errors } = validateLayers([calico, cilium, longhorn, localPath]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/exactly one os layer, found 0/),
      expect.stringMatching(/exactly one k8s layer, found 0/),
      expect.stringMatching(/at most one cni layer, found 2/),
      expect.stringMatching(/at most one csi layer, found 2/),
    ]);
    expect(paths(errors)).toEqual(['layers', 'layers', 'layers', 'layers']);
  });

  it('does not check compatibility when the os or k8s count is wrong', () => {
    const { errors } = validateLayers([alpine, rke2, { ...rke2, pack: 'kubeadm' }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/exactly one k8s layer, found 2/);
  });

  it('the duplicate error points at the second occurrence', () => {
    const { errors } = validateLayers([nginx, os, nginx, k3s]);
    expect(errors).toEqual([{ path: 'layers.2.pack', message: expect.stringMatching(/ingress-nginx/) }]);
  });

  it('the same pack name in different layer types is not a duplicate', () => {
    const sameName: Layer = { type: 'addon', pack: 'calico', version: '1.0.0' };
    expect(validateLayers([os, k3s, calico, sameName]).errors).toEqual([]);
  });

  it.each([
    [[nginx, certManager, longhorn, calico, k3s, os], [os, k3s, calico, longhorn, nginx, certManager]],
    [[certManager, os, nginx, k3s], [os, k3s, certManager, nginx]],
    [[k3s, os], [os, k3s]],
    [[os, k3s, calico], [os, k3s, calico]],
    [[longhorn, nginx, calico, os, certManager, k3s], [os, k3s, calico, longhorn, nginx, certManager]],
  ])('orders layers canonically (os, k8s, cni, csi, add-ons in given order) #%#', (input, expected) => {
    const before = [...input];
    expect(validateLayers(input).ordered).toEqual(expected);
    expect(input).toEqual(before); // the input is not sorted in place
  });

  it('keeps every layer field when ordering', () => {
    const { ordered } = validateLayers([certManager, k3s, os]);
    expect(ordered[2]).toBe(certManager);
  });
});
