// 8 query rows per thread in the flash core (lib/flash): a variant of lib/flash_rows_1 the
// autotuner picks where a workgroup's threads cost more than their arithmetic (SwiftShader).
const ROWS = 8u;
