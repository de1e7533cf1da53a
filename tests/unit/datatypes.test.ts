import { describe, expect, it } from 'vitest';
import {
  datatypeFromOrt,
  datatypeInfo,
  datatypes,
  elementCount,
  isDatatype,
} from '../../serving/protocol/datatypes.ts';

describe('datatypes', () => {
  it('maps every OIP datatype to a distinct ONNX Runtime type and back', () => {
    const ortTypes = datatypes.map((d) => datatypeInfo[d].ort);
    expect(new Set(ortTypes).size).toBe(datatypes.length);
    for (const d of datatypes) expect(datatypeFromOrt(datatypeInfo[d].ort)).toBe(d);
    expect(datatypeFromOrt('complex64')).toBeUndefined();
  });

  it('gives numeric datatypes an element size that matches their typed array', () => {
    for (const d of datatypes) {
      const info = datatypeInfo[d];
      const array = info.create(3);
      expect(array.length).toBe(3);
      if (d === 'BYTES') {
        expect(info.size).toBe(0);
        expect(array).toEqual(['', '', '']);
      } else {
        expect((array as Uint8Array).BYTES_PER_ELEMENT, d).toBe(info.size);
      }
    }
  });

  it('recognises exactly the protocol datatypes', () => {
    for (const d of datatypes) expect(isDatatype(d)).toBe(true);
    for (const v of ['fp32', 'FLOAT', '', 'toString', 1, null, undefined, ['FP32']]) expect(isDatatype(v)).toBe(false);
  });

  it('counts elements, with 1 for a scalar and 0 for an empty dimension', () => {
    expect(elementCount([])).toBe(1);
    expect(elementCount([2, 3, 4])).toBe(24);
    expect(elementCount([5, 0, 7])).toBe(0);
  });
});
