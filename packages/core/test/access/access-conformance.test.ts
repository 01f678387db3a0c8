import { createMemoryStorage } from '@crmkit/core';
import { describeAccessConformance } from '@crmkit/core/testing/conformance';

describeAccessConformance('memory', () => createMemoryStorage());
