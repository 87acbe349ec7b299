import { describe, expectTypeOf, it } from 'vitest';
import type { WorkflowGraphInput } from '../graph/graph-types.ts';
import type {
  Content,
  CreditBalance,
  MediaLink,
  ProviderKeys,
  RunStatus,
  UserResponse,
} from './api-types.ts';
import type { components, paths } from './openapi-types.ts';
import type { RequestBodyOf, ResponseOf } from './operation-types.ts';

type Schemas = components['schemas'];

describe('the API types come from the OpenAPI document', () => {
  it('names the schemas and the answers of the routes', () => {
    expectTypeOf<CreditBalance>().toEqualTypeOf<Schemas['CreditBalance']>();
    expectTypeOf<CreditBalance>().toEqualTypeOf<
      paths['/api/credits/balance']['get']['responses'][200]['content']['application/json']
    >();
    expectTypeOf<ProviderKeys>().toEqualTypeOf<{
      readonly keys: readonly Schemas['ProviderKey'][];
      readonly slots: readonly Schemas['ProviderKeySlot'][];
    }>();
    expectTypeOf<UserResponse>().toEqualTypeOf<{ readonly user: Schemas['User'] }>();
  });

  it('keeps the literal unions and nullability the app switches on', () => {
    expectTypeOf<CreditBalance['available']>().toEqualTypeOf<number | null>();
    expectTypeOf<CreditBalance['plan']>().toEqualTypeOf<'free' | 'starter' | 'pro' | 'enterprise'>();
    expectTypeOf<RunStatus>().toEqualTypeOf<'queued' | 'running' | 'completed' | 'failed' | 'cancelled'>();
    expectTypeOf<Content['media']['video']>().toEqualTypeOf<MediaLink | null>();
    expectTypeOf<Schemas['RunNodeStatus']['status']>().toEqualTypeOf<
      'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled'
    >();
    expectTypeOf<Schemas['RunNodeStatus']['progress']>().toEqualTypeOf<number>();
  });

  it('reads success and request bodies by method and path', () => {
    expectTypeOf<ResponseOf<'/api/workflow/execute', 'post'>>().toEqualTypeOf<Schemas['RunAccepted']>();
    expectTypeOf<ResponseOf<'/api/templates', 'post'>>().toEqualTypeOf<Schemas['WorkflowTemplate']>();
    expectTypeOf<ResponseOf<'/api/auth/logout', 'post'>>().toEqualTypeOf<undefined>();
    expectTypeOf<RequestBodyOf<'/api/workflow/execute', 'post'>>().toEqualTypeOf<
      Schemas['ExecuteWorkflow']
    >();
    expectTypeOf<RequestBodyOf<'/api/credits/balance', 'get'>>().toBeNever();
  });

  it("takes the engine's graph as the document's (loose) graph, without translation", () => {
    expectTypeOf<WorkflowGraphInput>().toExtend<RequestBodyOf<'/api/workflow/estimate', 'post'>>();
    expectTypeOf<WorkflowGraphInput>().toExtend<RequestBodyOf<'/api/workflow/execute', 'post'>['graph']>();
    expectTypeOf<WorkflowGraphInput>().toExtend<RequestBodyOf<'/api/templates', 'post'>['graph']>();
  });
});
