export * from './problem';
export * from './problem.filter';
export * from './bootstrap';
export * from './openapi/api-doc';
export * from './openapi/route-table';
export * from './openapi/openapi-document';
export * from './openapi/openapi.module';
export { renderDocsPage } from './openapi/docs-page';
export * from './fast-routes';
