import { describeAccessConformance, describeCrmConformance, describeReportsConformance, describeStorageConformance } from '@crmkit/core/testing/conformance';
import { createIndexedDbStorage } from '@crmkit/storage-indexeddb';
import { fakeOptions, fakeStorage } from './fake-env.js';

describeStorageConformance(
  'indexeddb (fake-indexeddb)',
  () => {
    const options = fakeOptions();
    return { adapter: createIndexedDbStorage(options), reopen: async () => createIndexedDbStorage(options), peer: () => createIndexedDbStorage(options) };
  },
  fakeStorage().capabilities,
);

describeReportsConformance('indexeddb (fake-indexeddb)', () => createIndexedDbStorage(fakeOptions()));

describeAccessConformance('indexeddb (fake-indexeddb)', () => createIndexedDbStorage(fakeOptions()));

describeCrmConformance('indexeddb (fake-indexeddb)', () => createIndexedDbStorage(fakeOptions()));
