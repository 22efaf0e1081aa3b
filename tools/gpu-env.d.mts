export const CHROMIUM_DIR: string;
export const CHROMIUM_BIN: string;
export const SWIFTSHADER_ICD: string;
export const CHROMIUM_ARGS: string[];
export const INSTALL_HINT: string;
export function hasSwiftShader(): boolean;
export function swiftshaderEnv(): Record<string, string>;
