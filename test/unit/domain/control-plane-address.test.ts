import { chooseControlPlaneAddress, firstIpv4, type InitNodeAddresses, type NicIps } from '../../../lambdas/domain/control-plane-address.js';

const cluster = { name: 'shop' };
const nics = (...list: [string, string[]][]): NicIps[] => list.map(([name, ips]) => ({ name, ips }));

describe('firstIpv4(): the first usable IPv4 address of the first interface that has one', () => {
  it.each<[string, NicIps[] | undefined, string | undefined]>([
    ['none reported', undefined, undefined],
    ['one NIC', nics(['eth0', ['192.168.1.20']]), '192.168.1.20'],
    ['IPv6 first on the NIC: the IPv4 one', nics(['eth0', ['fd00::20', '10.1.2.3']]), '10.1.2.3'],
    ['a first NIC with only IPv6: the next NIC\'s IPv4', nics(['eth0', ['fd00::20']], ['eth1', ['10.9.9.9']]), '10.9.9.9'],
    ['loopback and link-local never count', nics(['lo', ['127.0.0.1']], ['eth0', ['169.254.3.4', '172.16.0.5']]), '172.16.0.5'],
    ['only link-local', nics(['eth0', ['169.254.3.4', 'fe80::1']]), undefined],
    ['a NIC without addresses', [{ name: 'eth0' }], undefined],
  ])('%s → %s', (_name, list, expected) => {
    expect(firstIpv4(list)).toBe(expected);
  });
});

describe('chooseControlPlaneAddress(): where the nodes join', () => {
  const init = (over: Partial<InitNodeAddresses> = {}): InitNodeAddresses => ({ hostId: 'cp-1', ...over });
  it.each<[string, { vip?: string; controlPlaneAddress?: string }, InitNodeAddresses | undefined, { address: string; source: string } | undefined]>([
    ['the VIP when the cluster has one', { vip: '192.0.2.100' }, init({ reported: nics(['eth0', ['10.0.0.1']]) }), { address: '192.0.2.100', source: 'vip' }],
    ['the address stored when the create began (a scale-out keeps it, whatever the node reports now)', { controlPlaneAddress: '10.0.0.1' }, init({ reported: nics(['eth0', ['10.0.0.2']]) }), { address: '10.0.0.1', source: 'stored' }],
    ['the init node\'s latest status report', {}, init({ reported: nics(['eth0', ['10.0.0.2']]), inventory: nics(['eth0', ['10.0.0.9']]) }), { address: '10.0.0.2', source: 'status' }],
    ['its inventory when the status names none', {}, init({ reported: [], inventory: nics(['eth0', ['10.0.0.9']]) }), { address: '10.0.0.9', source: 'inventory' }],
    ['no address anywhere: refused', {}, init({ reported: nics(['eth0', ['fe80::1']]) }), undefined],
    ['no control-plane host: refused', {}, undefined, undefined],
  ])('%s', (_name, c, i, expected) => {
    const choice = chooseControlPlaneAddress({ ...cluster, ...c }, i);
    if (expected) expect(choice).toEqual({ ok: true, ...expected });
    else expect(choice).toMatchObject({ ok: false, code: 'no-control-plane-address' });
  });

  it('the refusal names the cluster, the host and what to do', () => {
    const choice = chooseControlPlaneAddress(cluster, init());
    expect(choice.ok).toBe(false);
    if (!choice.ok) expect(choice.message).toBe('cluster shop has no VIP and its init host cp-1 reports no IPv4 address, so the other nodes would have nowhere to join: check the host\'s network (its agent reports its addresses with every status change), or create the cluster with a vip');
  });
});
