export * from './problem';
export * from './problem.filter';
export * from './correlation.interceptor';
export * from './bootstrap';
