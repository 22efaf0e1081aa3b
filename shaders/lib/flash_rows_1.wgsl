// One query row per thread in the flash core (lib/flash): what a GPU wants, its registers free for the
// row's query and accumulator. lib/flash_rows_4 and lib/flash_rows_8 are the variants the autotuner
// may pick for adapters where threads cost more than arithmetic (SwiftShader).
const ROWS = 1u;
