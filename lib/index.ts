// winbg: author Windows background tasks in TypeScript. The COM runtime is also at 'winbg/com'.
export * from './com/index.js';
