import { describe, expect, it } from 'vitest';
import { executionProviders } from '../../serving/config/schema.ts';
import { providerCandidates } from '../../serving/replica/execution-provider.ts';

const platforms: [NodeJS.Platform, string][] = [
  ['darwin', 'arm64'],
  ['darwin', 'x64'],
  ['linux', 'x64'],
  ['linux', 'arm64'],
  ['win32', 'x64'],
  ['win32', 'arm64'],
  ['freebsd', 'x64'],
];

describe('providerCandidates', () => {
  it('prefers CoreML then WebGPU on macOS, whatever the CPU', () => {
    expect(providerCandidates('auto', 'darwin', 'arm64')).toEqual(['coreml', 'webgpu', 'cpu']);
    expect(providerCandidates('auto', 'darwin', 'x64')).toEqual(['coreml', 'webgpu', 'cpu']);
  });

  it('prefers CUDA then WebGPU on Linux x64', () => {
    expect(providerCandidates('auto', 'linux', 'x64')).toEqual(['cuda', 'webgpu', 'cpu']);
  });

  it('uses the CPU only on Linux arm64', () => {
    expect(providerCandidates('auto', 'linux', 'arm64')).toEqual(['cpu']);
  });

  it('prefers WebGPU on Windows', () => {
    expect(providerCandidates('auto', 'win32', 'x64')).toEqual(['webgpu', 'cpu']);
  });

  it('falls back to the CPU on other platforms', () => {
    expect(providerCandidates('auto', 'freebsd', 'x64')).toEqual(['cpu']);
  });

  it('tries an explicit accelerator, then the CPU, on every platform', () => {
    for (const [platform, arch] of platforms) {
      expect(providerCandidates('webgpu', platform, arch)).toEqual(['webgpu', 'cpu']);
      expect(providerCandidates('cuda', platform, arch)).toEqual(['cuda', 'cpu']);
      expect(providerCandidates('coreml', platform, arch)).toEqual(['coreml', 'cpu']);
    }
  });

  it('uses only the CPU when asked for cpu', () => {
    for (const [platform, arch] of platforms) expect(providerCandidates('cpu', platform, arch)).toEqual(['cpu']);
  });

  it('always ends with the CPU and never repeats a provider', () => {
    for (const choice of executionProviders) {
      for (const [platform, arch] of platforms) {
        const list = providerCandidates(choice, platform, arch);
        expect(list.at(-1)).toBe('cpu');
        expect(new Set(list).size).toBe(list.length);
      }
    }
  });

  it('defaults to the running platform and architecture', () => {
    expect(providerCandidates('auto')).toEqual(providerCandidates('auto', process.platform, process.arch));
  });
});
