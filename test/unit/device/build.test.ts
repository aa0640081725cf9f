import { parse } from 'yaml';
import { cloudConfigSnippet, systemdUnit } from '../../../device/build.js';

describe('device build artefacts', () => {
  test('the systemd unit runs the bundle and does not restart on a terminal refusal', () => {
    const u = systemdUnit('/opt/ef');
    expect(u).toContain('ExecStart=/usr/bin/env node /opt/ef/edgefleet-agent.mjs');
    expect(u).toContain('RestartPreventExitStatus=78');
    expect(u).toContain('EDGEFLEET_AGENT_CONFIG=/oem/edgefleet/agent.json');
  });

  test('the cloud-config snippet is valid YAML with Kairos stages that install the unit and the files', () => {
    const text = cloudConfigSnippet('/opt/ef');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text);
    expect(doc.stages.initramfs[0].files[0]).toMatchObject({ path: '/etc/systemd/system/edgefleet-agent.service', content: systemdUnit('/opt/ef') });
    expect(doc.stages['boot.before'][0].downloads.map((d: any) => d.path)).toContain('/opt/ef/edgefleet-agent.mjs');
    expect(doc.stages.boot[0].systemctl.enable).toEqual(['edgefleet-agent']);
  });
});
