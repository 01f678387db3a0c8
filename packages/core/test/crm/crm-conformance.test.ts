import { createMemoryStorage } from '@crmkit/core';
import { describeCrmConformance } from '@crmkit/core/testing/conformance';

// The service-level rules (caller-owned objects, missing records, no silent caps) on the reference adapter.
describeCrmConformance('memory', () => createMemoryStorage());
