import { createMemoryStorage } from '@crmkit/core';
import { describeReportsConformance } from '@crmkit/core/testing/conformance';

describeReportsConformance('memory', () => createMemoryStorage());
