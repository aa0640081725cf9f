import { HOST_COLUMNS, hostAddress, hostAddresses } from '../../cli/commands/hosts.js';

const inv = (nics: { name: string; ips?: string[] }[]) => ({
  inventory: { arch: 'amd64' as const, cpus: 4, memoryMb: 8192, disks: [], nics: nics.map((n) => ({ mac: '52:54:00:12:34:56', ...n })), os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' },
});

describe('edgefleet hosts: addresses', () => {
  it.each<[string, ReturnType<typeof inv> | { inventory?: undefined }, string | undefined, string | undefined]>([
    ['no inventory', {}, undefined, undefined],
    ['one NIC', inv([{ name: 'eth0', ips: ['192.168.1.20', 'fd00::20'] }]), '192.168.1.20', 'eth0 192.168.1.20, fd00::20'],
    ['the first NIC has only IPv6, the second IPv4', inv([{ name: 'eth0', ips: ['fd00::20'] }, { name: 'wlan0', ips: ['10.0.0.5'] }]), '10.0.0.5', 'eth0 fd00::20; wlan0 10.0.0.5'],
    ['a NIC without addresses is not listed', inv([{ name: 'eth1' }, { name: 'eth0', ips: ['10.0.0.6'] }]), '10.0.0.6', 'eth0 10.0.0.6'],
  ])('%s: list shows %s, get shows %s', (_name, h, address, addresses) => {
    expect(hostAddress(h)).toBe(address);
    expect(hostAddresses(h)).toBe(addresses);
  });

  it('hosts list has HEALTH and ADDRESS columns after PRESENCE, and the reported AGENT version', () => {
    expect(HOST_COLUMNS.map((c) => c.header)).toEqual(['ID', 'NAME', 'SITE', 'STATUS', 'PRESENCE', 'HEALTH', 'ADDRESS', 'CLUSTER', 'AGENT', 'TAGS']);
  });
});
