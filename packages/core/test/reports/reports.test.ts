import { createMemoryStorage } from '@crmkit/core';
import { describeReportsConformance } from '@crmkit/core/testing';

describeReportsConformance('memory', () => createMemoryStorage());
