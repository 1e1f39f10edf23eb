// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Maglev tables as the datapath reads them: what veerd writes through the
 * mmap fast path must be what a map lookup returns, slot for slot. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "dpmaps.h"

static void fill(uint32_t *t, uint32_t m, uint32_t salt)
{
	for (uint32_t i = 0; i < m; i++)
		t[i] = (i * 2654435761u) ^ salt;
}

static void assert_table(int fd, const uint32_t *want, uint32_t m)
{
	uint32_t v;

	for (uint32_t i = 0; i < m; i++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &i, &v), 0);
		assert_int_equal(v, want[i]);
	}
}

static void test_create_then_rewrite(void **state)
{
	const uint32_t sizes[] = { 7, 251, 1021, 16381, 65537 };

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t m = sizes[k], *t = malloc(m * sizeof(*t));
		int fd;

		assert_non_null(t);
		fill(t, m, 1);
		fd = dp_table_create(k, m, t);
		assert_true(fd >= 0);
		assert_table(fd, t, m);
		fill(t, m, 0xabcdef);	/* the swap path: rewrite in place */
		assert_int_equal(dp_table_write(fd, m, t), 0);
		assert_table(fd, t, m);
		close(fd);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_then_rewrite),
	};

	if (geteuid() != 0) {
		print_message("test_dpmaps needs root (BPF maps)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
