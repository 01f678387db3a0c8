// @vitest-environment jsdom
import * as reactHooks from '@crmkit/react-hooks';
import * as react from 'react';
import * as reactDomClient from 'react-dom/client';
import * as reactDomServer from 'react-dom/server';
import * as jsxRuntime from 'react/jsx-runtime';
import { describeDocs } from '../src/describe-docs.js';
import { domDocs } from './dom-docs.js';
import { nodeModules } from './modules.js';

describeDocs(domDocs, {
  ...nodeModules,
  '@crmkit/react-hooks': reactHooks,
  react,
  'react-dom/client': reactDomClient,
  'react-dom/server': reactDomServer,
  'react/jsx-runtime': jsxRuntime,
});
