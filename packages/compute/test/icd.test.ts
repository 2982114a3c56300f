// Which Vulkan drivers the loader would use, and when 'auto' may skip WebGPU without starting Dawn (software only).
import { describe, expect, it } from 'vitest';
import { type IcdEnv, softwareOnlyVulkan, vulkanDrivers } from '../src/adapter.ts';

function host(
  tree: Record<string, string[]>,
  opts: { env?: Record<string, string>; renderNode?: boolean } = {},
): IcdEnv {
  return {
    platform: 'linux',
    env: opts.env ?? {},
    listJson: (dir) => tree[dir] ?? [],
    hasRenderNode: () => opts.renderNode ?? false,
  };
}
// What Debian's mesa-vulkan-drivers installs.
const DEBIAN_MESA = {
  '/usr/share/vulkan/icd.d': [
    'gfxstream_vk_icd.json',
    'intel_hasvk_icd.json',
    'intel_icd.json',
    'lvp_icd.json',
    'radeon_icd.json',
    'virtio_icd.json',
  ],
};

describe('vulkanDrivers / softwareOnlyVulkan', () => {
  it('reads the standard folders when no variable names the drivers', () => {
    const env = host({ '/usr/share/vulkan/icd.d': ['lvp_icd.x86_64.json'] });
    expect(vulkanDrivers(env)).toEqual(['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json']);
    expect(softwareOnlyVulkan(env)).toEqual(['lvp_icd.x86_64.json']);
  });

  it("Mesa's GPU drivers count only where a DRM render node exists", () => {
    expect(softwareOnlyVulkan(host(DEBIAN_MESA))).toEqual(['lvp_icd.json']);
    expect(softwareOnlyVulkan(host(DEBIAN_MESA, { renderNode: true }))).toBeUndefined();
  });

  it("another vendor's driver (NVIDIA) or an unknown one means WebGPU must be probed", () => {
    const tree = { ...DEBIAN_MESA, '/etc/vulkan/icd.d': ['nvidia_icd.json'] };
    expect(softwareOnlyVulkan(host(tree))).toBeUndefined();
    expect(softwareOnlyVulkan(host({ '/usr/share/vulkan/icd.d': ['lvp_icd.json', 'acme_gpu.json'] }))).toBeUndefined();
    expect(softwareOnlyVulkan(host({ '/usr/local/share/vulkan/icd.d': ['vk_swiftshader_icd.json'] }))).toEqual([
      'vk_swiftshader_icd.json',
    ]);
  });

  it('VK_DRIVER_FILES / VK_ICD_FILENAMES replace the search; VK_ADD_DRIVER_FILES or another OS: unknown', () => {
    expect(softwareOnlyVulkan(host(DEBIAN_MESA, { env: { VK_ICD_FILENAMES: '/opt/nv/nvidia_icd.json' } }))).toBe(
      undefined,
    );
    expect(softwareOnlyVulkan(host({}, { env: { VK_DRIVER_FILES: '/usr/share/vulkan/icd.d/lvp_icd.json' } }))).toEqual([
      'lvp_icd.json',
    ]);
    expect(vulkanDrivers(host(DEBIAN_MESA, { env: { VK_ADD_DRIVER_FILES: '/x.json' } }))).toBeUndefined();
    expect(vulkanDrivers({ ...host(DEBIAN_MESA), platform: 'darwin' })).toBeUndefined();
  });

  it('no driver at all, or no software driver, is not "software only" (the no-adapter diagnosis explains it)', () => {
    expect(softwareOnlyVulkan(host({}))).toBeUndefined();
    expect(softwareOnlyVulkan(host({ '/usr/share/vulkan/icd.d': ['intel_icd.json'] }))).toBeUndefined();
  });
});
