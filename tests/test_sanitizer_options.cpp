// The sanitizers' default options for the test binary (see engine/core/sanitizer_options.h); no
// tests of its own.
#include "engine/core/sanitizer_options.h"
