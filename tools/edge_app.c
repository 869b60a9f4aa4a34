/* edge_app: the on-device life cycle in plain C99, as an app on a phone, a set-top box or
 * an ARM board would run it. The weight file is mapped read-only (mmap: nothing is copied,
 * pages load on demand), the scorer's scratch is a static aligned array, a user's history
 * (the app's own item ids) comes one line at a time from stdin, and the top-K goes to
 * stdout with the app's item ids. No heap is used after the model is loaded.
 *
 *   edge_app MODEL [K]  < histories     one history per line: ids separated by , or spaces
 *   output per line:    id<TAB>score ... (K pairs, best first; the history is left out)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ract/ract.h"

#define MAX_K 100
#define MAX_HISTORY 4096
#define ARENA_BYTES (256 * 1024)

/* The scorer's whole working memory (any alignment works; 64 bytes suits its vectors). */
#if defined(__GNUC__)
__attribute__((aligned(64)))
#endif
static uint8_t arena[ARENA_BYTES];

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: edge_app MODEL [K] < histories\n");
    return 2;
  }
  int k = argc == 3 ? atoi(argv[2]) : 10;
  if (k < 1 || k > MAX_K) {
    fprintf(stderr, "edge_app: K must be 1..%d\n", MAX_K);
    return 2;
  }

  /* 1. Map the weight file; the model points into the mapping. */
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
    fprintf(stderr, "edge_app: cannot open %s\n", argv[1]);
    return 1;
  }
  void* blob = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (blob == MAP_FAILED) {
    fprintf(stderr, "edge_app: cannot map %s\n", argv[1]);
    return 1;
  }
  ract_model model;
  ract_error err;
  if (ract_model_load(&model, blob, (size_t)st.st_size, &err) != RACT_OK) {
    fprintf(stderr, "edge_app: %s: %s\n", argv[1], err.msg);
    return 1;
  }

  /* 2. The scorer lives in the static arena. */
  ract_scorer scorer;
  if (ract_scorer_init(&scorer, &model, arena, sizeof arena, &err) != RACT_OK) {
    fprintf(stderr, "edge_app: %s (needs %zu bytes)\n", err.msg, ract_scorer_arena_bytes(&model));
    return 1;
  }

  /* 3. One user per line: history in, top-K out. */
  static char line[65536];
  static const char* tokens[MAX_HISTORY];
  int32_t items[MAX_K];
  float scores[MAX_K];
  while (fgets(line, sizeof line, stdin) != NULL) {
    int n = 0;
    for (char* t = strtok(line, ", \t\r\n"); t != NULL && n < MAX_HISTORY;
         t = strtok(NULL, ", \t\r\n")) {
      tokens[n++] = t;
    }
    int unknown = 0, got = 0;
    if (ract_scorer_set_history_tokens(&scorer, tokens, n, &unknown, &err) != RACT_OK ||
        ract_scorer_topk(&scorer, k, 1, items, scores, &got, &err) != RACT_OK) {
      fprintf(stderr, "edge_app: %s\n", err.msg);
      return 1;
    }
    if (unknown > 0) fprintf(stderr, "edge_app: %d unknown item id(s) skipped\n", unknown);
    for (int i = 0; i < got; i++) {
      printf("%s%s\t%.6g", i ? "\t" : "", ract_model_item_token(&model, items[i]), scores[i]);
    }
    printf("\n");
  }
  munmap(blob, (size_t)st.st_size);
  return 0;
}
