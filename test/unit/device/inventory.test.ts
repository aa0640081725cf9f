import type { NetworkInterfaceInfo } from 'node:os';
import { inventory as inventorySchema } from '../../../lambdas/contracts/device.js';
import { statusMessage } from '../../../lambdas/contracts/mqtt.js';
import { cpus } from 'node:os';
import { collectInventory, machineHardware, nicAddresses, type NetworkInterfaces } from '../../../device/inventory.js';
import { SimulatedKairos } from '../../../simulator/simulated-kairos.js';

const v4 = (address: string, over: Partial<NetworkInterfaceInfo> = {}): NetworkInterfaceInfo =>
  ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:12:34:56', internal: false, cidr: `${address}/24`, ...over }) as NetworkInterfaceInfo;
const v6 = (address: string, over: Partial<NetworkInterfaceInfo> = {}): NetworkInterfaceInfo =>
  ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '52:54:00:12:34:56', internal: false, cidr: `${address}/64`, scopeid: 0, ...over }) as NetworkInterfaceInfo;

const HOST: NetworkInterfaces = {
  lo: [v4('127.0.0.1', { internal: true, mac: '00:00:00:00:00:00' }), v6('::1', { internal: true, mac: '00:00:00:00:00:00' })],
  eth0: [v4('192.168.10.21'), v6('fe80::5054:ff:fe12:3456%eth0'), v6('fd00:10::21')],
  eth1: [v4('169.254.7.7', { mac: '52:54:00:ab:cd:ef' })],
  wlan0: [v4('10.20.30.40', { mac: '52:54:00:00:00:01' })],
};

describe('the host\'s addresses (os.networkInterfaces())', () => {
  it('per interface, without loopback, link-local (IPv4 and IPv6) or zone ids; interfaces with none left out', () => {
    expect(nicAddresses(HOST)).toEqual([{ name: 'eth0', ips: ['192.168.10.21', 'fd00:10::21'] }, { name: 'wlan0', ips: ['10.20.30.40'] }]);
  });

  it('the inventory lists every NIC with its MAC and its addresses; both shapes pass the wire schemas', async () => {
    const inv = await collectInventory(undefined, HOST);
    expect(inv.nics).toEqual([
      { name: 'eth0', mac: '52:54:00:12:34:56', ips: ['192.168.10.21', 'fd00:10::21'] },
      { name: 'eth1', mac: '52:54:00:ab:cd:ef' },
      { name: 'wlan0', mac: '52:54:00:00:00:01', ips: ['10.20.30.40'] },
    ]);
    expect(inventorySchema.parse(inv)).toEqual(inv);
    expect(statusMessage.shape.addresses.parse(nicAddresses(HOST))).toEqual(nicAddresses(HOST));
  });

  it('reports this machine\'s hardware by default, and a host\'s own when it supplies it (a simulated host)', async () => {
    const machine = await collectInventory(undefined, HOST);
    expect(machine.cpus).toBe(cpus().length);
    expect(machine).toMatchObject(await machineHardware());

    const kairos = new SimulatedKairos({ hardware: { cpus: 8, disks: [{ name: 'nvme0n1', sizeGb: 512 }] } });
    const simulated = await collectInventory(undefined, HOST, () => kairos.hardware());
    expect(simulated).toMatchObject({ arch: 'amd64', cpus: 8, memoryMb: 8192, disks: [{ name: 'nvme0n1', sizeGb: 512 }] });
    expect(await collectInventory(undefined, HOST, () => new SimulatedKairos().hardware())).toMatchObject({ cpus: 4, memoryMb: 8192, disks: [{ name: 'sda', sizeGb: 128 }] });
    expect(inventorySchema.parse(simulated)).toEqual(simulated);
  });
});
