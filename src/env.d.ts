// Module declarations for imports TypeScript cannot resolve on its own.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
