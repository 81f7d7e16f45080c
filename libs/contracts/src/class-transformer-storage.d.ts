// class-transformer ships the @Type metadata storage as cjs/storage.js and its types apart, under types/.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
