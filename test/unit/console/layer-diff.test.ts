import { diffLayers, type LayerLike } from '../../../console/src/logic/layer-diff.js';

const os = (image: string): LayerLike => ({ type: 'os', pack: 'ubuntu', version: '24.04', image });
const k3s = (version: string, values?: string): LayerLike => ({ type: 'k8s', pack: 'k3s', version, ...(values ? { values } : {}) });
const addon = (pack: string, version: string): LayerLike => ({ type: 'addon', pack, version });

describe('profile versions side by side (layer diff)', () => {
  it.each([
    ['identical', [os('a'), k3s('1.30.4')], [os('a'), k3s('1.30.4')], [['os', 'same', []], ['k8s', 'same', []]]],
    ['an OS image and a k8s version change', [os('a'), k3s('1.30.4')], [os('b'), k3s('1.31.2')], [['os', 'changed', ['image']], ['k8s', 'changed', ['version']]]],
    ['values only', [os('a'), k3s('1.30.4')], [os('a'), k3s('1.30.4', 'node-label: [a=b]')], [['os', 'same', []], ['k8s', 'changed', ['values']]]],
    ['an add-on added and one removed', [os('a'), k3s('1'), addon('metrics', '1')], [os('a'), k3s('1'), addon('traefik', '2')],
      [['os', 'same', []], ['k8s', 'same', []], ['addon/metrics', 'removed', []], ['addon/traefik', 'added', []]]],
    ['another distribution in the k8s slot', [os('a'), k3s('1.30.4')], [os('a'), { type: 'k8s', pack: 'rke2', version: '1.30.4' }], [['os', 'same', []], ['k8s', 'changed', ['pack']]]],
  ])('%s', (_name, left, right, rows) => {
    expect(diffLayers(left, right).map((r) => [r.slot, r.change, r.fields])).toEqual(rows);
  });
});
