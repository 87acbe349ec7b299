import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EngineError } from '../errors/engine-error.ts';
import { DuplicateNodeTypeError, UnknownNodeTypeError } from '../errors/registry-errors.ts';
import { defineNode } from './define-node.ts';
import { createNodeRegistry } from './node-registry.ts';

const make = <const T extends string>(type: T) =>
  defineNode({
    type,
    version: 1,
    input: z.object({}),
    output: z.object({ type: z.string() }),
    config: z.object({}),
    run: () => ({ type }),
  });

const image = make('image');
const video = make('video');
const audio = make('audio');

describe('createNodeRegistry', () => {
  it('lists its types in registration order and its definitions', () => {
    const registry = createNodeRegistry([video, image]);
    expect(registry.types).toEqual(['video', 'image']);
    expect(registry.list()).toEqual([video, image]);
  });

  it('has: true for registered types only', () => {
    const registry = createNodeRegistry([image]);
    expect(registry.has('image')).toBe(true);
    expect(registry.has('video')).toBe(false);
    expect(registry.has('')).toBe(false);
  });

  it('get: returns the very definition that was registered', () => {
    const registry = createNodeRegistry([image, video]);
    expect(registry.get('image')).toBe(image);
    expect(registry.get('video')).toBe(video);
  });

  it('get: an unknown type throws UnknownNodeTypeError naming it and the known types', () => {
    const registry = createNodeRegistry([image, video]);
    let thrown: unknown;
    try {
      registry.get('imagee');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownNodeTypeError);
    expect(thrown).toBeInstanceOf(EngineError);
    const error = thrown as UnknownNodeTypeError;
    expect(error.code).toBe('UNKNOWN_NODE_TYPE');
    expect(error.nodeType).toBe('imagee');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('imagee');
    expect(error.message).toContain('image, video');
  });

  it('a type registered twice throws DuplicateNodeTypeError', () => {
    let thrown: unknown;
    try {
      createNodeRegistry([image, video, make('image')]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DuplicateNodeTypeError);
    const error = thrown as DuplicateNodeTypeError;
    expect(error.code).toBe('DUPLICATE_NODE_TYPE');
    expect(error.nodeType).toBe('image');
    expect(error.message).toContain('"image"');
  });

  it('with: returns a new registry with more types, leaving the original unchanged', () => {
    const base = createNodeRegistry([image]);
    const more = base.with([video, audio]);
    expect(more.types).toEqual(['image', 'video', 'audio']);
    expect(more.get('audio')).toBe(audio);
    expect(more.has('video')).toBe(true);
    expect(base.types).toEqual(['image']);
    expect(base.has('video')).toBe(false);
    expect(() => base.get('video')).toThrow(UnknownNodeTypeError);
  });

  it('with: a clash with a registered type throws DuplicateNodeTypeError', () => {
    const base = createNodeRegistry([image, video]);
    expect(() => base.with([audio, make('video')])).toThrow(DuplicateNodeTypeError);
    try {
      base.with([make('video')]);
    } catch (error) {
      expect((error as DuplicateNodeTypeError).code).toBe('DUPLICATE_NODE_TYPE');
      expect((error as DuplicateNodeTypeError).nodeType).toBe('video');
    }
    expect(base.types).toEqual(['image', 'video']);
  });

  it('is frozen, and so are its types', () => {
    const registry = createNodeRegistry([image]);
    expect(Object.isFrozen(registry)).toBe(true);
    expect(Object.isFrozen(registry.types)).toBe(true);
  });

  it('an empty registry has no types', () => {
    const registry = createNodeRegistry([]);
    expect(registry.types).toEqual([]);
    expect(registry.list()).toEqual([]);
    expect(() => registry.get('image')).toThrow(UnknownNodeTypeError);
  });
});

describe('defineNode', () => {
  it('returns a frozen copy of the definition', () => {
    expect(Object.isFrozen(image)).toBe(true);
    expect(image.type).toBe('image');
  });

  it('rejects a non-positive or fractional version, and an empty type', () => {
    const base = {
      input: z.object({}),
      output: z.object({}),
      config: z.object({}),
      run: () => ({}),
    };
    expect(() => defineNode({ ...base, type: 'a', version: 0 })).toThrow(TypeError);
    expect(() => defineNode({ ...base, type: 'a', version: 1.5 })).toThrow(TypeError);
    expect(() => defineNode({ ...base, type: '', version: 1 })).toThrow(TypeError);
  });
});
