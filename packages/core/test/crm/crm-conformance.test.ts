import { createMemoryStorage } from '@crmkit/core';
import { describeCrmConformance } from '@crmkit/core/testing/conformance';

// The memory adapter against itself: every verdict must still be a CrmError and bad input must write nothing.
describeCrmConformance('memory', () => createMemoryStorage());
