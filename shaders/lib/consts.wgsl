// Numeric constants shared by the kernels.

// The largest finite f32: the start of a running max, the score of a masked key (exp(-F32_MAX - m)
// is 0 without the NaN an infinity minus an infinity would give).
const F32_MAX: f32 = 3.402823e38;
