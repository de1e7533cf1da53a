import { describe, expect, it } from 'vitest';
import { describeOutcome, failureReason, probeRequest } from '../../serving/replica/provider-probe.ts';

// What onnxruntime-node 1.30 on a Linux machine with no GPU says and prints, verbatim.
const CUDA_ERROR = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
const CUDA_PRINTED =
  '2026-12-06 23:20:48.508436827 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] ' +
  '/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& ' +
  'onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library ' +
  '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so with error: ' +
  '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so: ' +
  'cannot open shared object file: No such file or directory';
const WEBGPU_ERROR =
  '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::' +
  'Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == ' +
  'wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
const WEBGPU_PRINTED =
  "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n" +
  'at operator() (/build/Release/_deps/dawn-src/src/dawn/native/vulkan/BackendVk.cpp:368)';

describe('execution provider probe', () => {
  it('turns ONNX Runtime’s errors and native noise into short reasons', () => {
    expect(failureReason(CUDA_ERROR, CUDA_PRINTED)).toBe('libonnxruntime_providers_shared.so not found');
    expect(failureReason(WEBGPU_ERROR, WEBGPU_PRINTED)).toBe('no WebGPU adapter (libvulkan.so.1 not found)');
    expect(failureReason(WEBGPU_ERROR, '')).toBe('no WebGPU adapter');
    expect(failureReason('no available backend found. ERR: [coreml] backend not found.', '')).toBe(
      'not in this build of onnxruntime-node',
    );
    // Anything else: its first line, without ORT's source path, and never a whole page.
    expect(failureReason('/onnxruntime_src/x/y.cc:12 something odd\nmore', '')).toBe('something odd');
    expect(failureReason('x'.repeat(500), '').length).toBe(120);
  });

  it('says in one line what was chosen and why the others were not', () => {
    expect(
      describeOutcome({
        chosen: 'cpu',
        skipped: [
          { provider: 'cuda', reason: 'libonnxruntime_providers_shared.so not found' },
          { provider: 'webgpu', reason: 'no WebGPU adapter' },
        ],
        detail: {},
      }),
    ).toBe('cpu (cuda: libonnxruntime_providers_shared.so not found; webgpu: no WebGPU adapter)');
    expect(describeOutcome({ chosen: 'webgpu', skipped: [], detail: {} })).toBe('webgpu');
  });

  it('probes only what could try an accelerator on a model file', () => {
    expect(probeRequest('a', __filename, 'cpu')).toBeUndefined();
    expect(probeRequest('a', undefined, 'auto')).toBeUndefined();
    expect(probeRequest('a', '/no/such/model.onnx', 'auto')).toBeUndefined();
    expect(probeRequest('a', __filename, 'auto', 'linux', 'x64')?.candidates).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(probeRequest('a', __filename, 'webgpu', 'darwin', 'arm64')?.candidates).toEqual(['webgpu', 'cpu']);
  });
});
