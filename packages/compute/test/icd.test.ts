// Which Vulkan drivers the loader would use, and when 'auto' may skip WebGPU without starting Dawn (software only).
import { describe, expect, it } from 'vitest';
import { softwareOnlyVulkan, vulkanDrivers } from '../src/adapter.ts';

const fsOf =
  (tree: Record<string, string[]>) =>
  (dir: string): string[] =>
    tree[dir] ?? [];

describe('vulkanDrivers / softwareOnlyVulkan', () => {
  it('reads the standard folders when no variable names the drivers', () => {
    const env = { platform: 'linux', env: {}, listJson: fsOf({ '/usr/share/vulkan/icd.d': ['lvp_icd.x86_64.json'] }) };
    expect(vulkanDrivers(env)).toEqual(['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json']);
    expect(softwareOnlyVulkan(env)).toEqual(['lvp_icd.x86_64.json']);
  });

  it('a hardware driver anywhere (or an unknown one) means WebGPU must be probed', () => {
    const tree = {
      '/usr/share/vulkan/icd.d': ['lvp_icd.x86_64.json'],
      '/etc/vulkan/icd.d': ['nvidia_icd.json'],
    };
    expect(softwareOnlyVulkan({ platform: 'linux', env: {}, listJson: fsOf(tree) })).toBeUndefined();
    const swOnly = { '/usr/local/share/vulkan/icd.d': ['vk_swiftshader_icd.json'], '/usr/share/vulkan/icd.d': [] };
    expect(softwareOnlyVulkan({ platform: 'linux', env: {}, listJson: fsOf(swOnly) })).toEqual([
      'vk_swiftshader_icd.json',
    ]);
  });

  it('VK_DRIVER_FILES / VK_ICD_FILENAMES replace the search; VK_ADD_DRIVER_FILES or another OS: unknown', () => {
    const none = fsOf({ '/usr/share/vulkan/icd.d': ['lvp_icd.x86_64.json'] });
    expect(
      softwareOnlyVulkan({ platform: 'linux', env: { VK_ICD_FILENAMES: '/opt/nv/nvidia_icd.json' }, listJson: none }),
    ).toBeUndefined();
    expect(
      softwareOnlyVulkan({
        platform: 'linux',
        env: { VK_DRIVER_FILES: '/usr/share/vulkan/icd.d/lvp_icd.json' },
        listJson: fsOf({}),
      }),
    ).toEqual(['lvp_icd.json']);
    expect(vulkanDrivers({ platform: 'linux', env: { VK_ADD_DRIVER_FILES: '/x.json' }, listJson: none })).toBe(
      undefined,
    );
    expect(vulkanDrivers({ platform: 'darwin', env: {}, listJson: none })).toBeUndefined();
  });

  it('no driver at all is not "software only" (the no-adapter diagnosis explains it)', () => {
    expect(softwareOnlyVulkan({ platform: 'linux', env: {}, listJson: fsOf({}) })).toBeUndefined();
  });
});
