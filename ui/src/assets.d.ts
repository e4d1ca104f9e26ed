// Vite's `?url` imports: the module's URL in the built bundle.
declare module '*?url' {
  const url: string;
  export default url;
}
