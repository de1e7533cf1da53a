import type { ExecutionProviderChoice } from '../config/schema.ts';

/**
 * Which execution providers to try, in order, for a configured choice. `auto` prefers the
 * platform's accelerator: CoreML (Metal / Neural Engine) then WebGPU (Dawn over Metal) on macOS,
 * CUDA then WebGPU (Dawn over Vulkan) on Linux x64, and always ends with CPU, so that a missing
 * driver degrades to a slower replica with a logged warning instead of a replica that never starts.
 */
export function providerCandidates(
  choice: ExecutionProviderChoice,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): string[] {
  if (choice === 'cpu') return ['cpu'];
  if (choice !== 'auto') return [choice, 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  if (platform === 'linux' && arch === 'x64') return ['cuda', 'webgpu', 'cpu'];
  if (platform === 'win32') return ['webgpu', 'cpu'];
  return ['cpu'];
}
