import { createMemoryStorage } from '@crmkit/core';
import { describeCrmConformance } from '@crmkit/core/testing/conformance';

// The service-level rules (caller-owned objects, missing records, no silent caps) on the reference
// adapter, and the memory adapter against itself: every verdict must still be a CrmError and bad
// input must write nothing.
describeCrmConformance('memory', () => createMemoryStorage());
