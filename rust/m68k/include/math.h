/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <math.h> for wasm2c's output and wasm-rt.h inside the m68k module: the
 * kernel has no libc, so these map what wasm2c uses onto kernel headers
 * and compiler builtins. Nothing else includes them.
 */
/*
 * Floating point never runs in the module (the Rust code has none and the
 * kernel is soft-float): these only let wasm2c's unused static helpers
 * compile. A use would show up as an undefined libgcc symbol at link time.
 */
#define isnan __builtin_isnan
#define signbit __builtin_signbit
#define floor __builtin_floor
#define floorf __builtin_floorf
#define ceil __builtin_ceil
#define ceilf __builtin_ceilf
#define trunc __builtin_trunc
#define truncf __builtin_truncf
#define nearbyint __builtin_nearbyint
#define nearbyintf __builtin_nearbyintf
#define sqrt __builtin_sqrt
#define sqrtf __builtin_sqrtf
#define fabs __builtin_fabs
#define fabsf __builtin_fabsf
#define copysign __builtin_copysign
#define copysignf __builtin_copysignf
#define fmin __builtin_fmin
#define fminf __builtin_fminf
#define fmax __builtin_fmax
#define fmaxf __builtin_fmaxf
#define NAN __builtin_nanf("")
