// winbg: author Windows background tasks in TypeScript. The layers are also entry points of
// their own: 'winbg/com' (the COM runtime), 'winbg/winrt' (WinRT on top of it), 'winbg/generated'
// (the projection of Windows.ApplicationModel.Background and what it references), 'winbg/winmd'
// (the metadata reader), 'winbg/generator' (projections of other namespaces), 'winbg/tasks'
// (background tasks), 'winbg/manifest' (the package manifest), 'winbg/host' (the portable host)
// and 'winbg/diagnostics' (leak-hunting counters, kept out of the author's API here).
export * from './com/index.js';
export * from './winrt/index.js';
export * from './tasks/index.js';
