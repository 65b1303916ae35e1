#include <stdio.h>
#include "polypsf/core.h"
int main(void) { printf("polypsf %s\n", pp_version()); return 0; }
