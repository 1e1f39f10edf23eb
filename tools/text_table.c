// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rows are held and printed in chunks: column widths only grow, so a long
 * listing (a million flows) stays aligned as far as its rows allow without
 * being held whole. Columns are two spaces apart; no trailing blanks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "text_table.h"

#define CHUNK_ROWS 1024

struct text_table {
	const char *const *headers;
	int ncols, indent;
	size_t *width;
	char ***rows;		/* rows[r][c]; NULL: no value given */
	size_t nrows;
	char **row;		/* the row being filled */
	int next_col;
	bool header_done;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "veerctl: out of memory\n");
		exit(1);
	}
	return p;
}

static void print_cells(const struct text_table *t, const char *const *cells)
{
	int last = t->ncols - 1;

	while (last > 0 && !cells[last])
		last--;
	printf("%*s", t->indent, "");
	for (int c = 0; c <= last; c++) {
		const char *s = cells[c] ? cells[c] : "-";

		if (c == last)
			printf("%s\n", s);
		else
			printf("%-*s  ", (int)t->width[c], s);
	}
}

static void flush(struct text_table *t)
{
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++)
			if (t->rows[r][c] && strlen(t->rows[r][c]) > t->width[c])
				t->width[c] = strlen(t->rows[r][c]);
	if (!t->header_done)
		print_cells(t, t->headers);
	t->header_done = true;
	for (size_t r = 0; r < t->nrows; r++) {
		print_cells(t, (const char *const *)t->rows[r]);
		for (int c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	t->nrows = 0;
}

struct text_table *text_table_new(const char *const *headers, int indent)
{
	struct text_table *t = xcalloc(1, sizeof(*t));

	while (headers[t->ncols])
		t->ncols++;
	t->headers = headers;
	t->indent = indent;
	t->width = xcalloc(t->ncols, sizeof(*t->width));
	for (int c = 0; c < t->ncols; c++)
		t->width[c] = strlen(headers[c]);
	t->rows = xcalloc(CHUNK_ROWS, sizeof(*t->rows));
	return t;
}

void text_table_row_begin(struct text_table *t)
{
	free(t->row);
	t->row = xcalloc(t->ncols, sizeof(char *));
	t->next_col = 0;
}

void text_table_cell(struct text_table *t, const char *text)
{
	if (t->row && t->next_col < t->ncols)
		t->row[t->next_col++] = strdup(text);
}

void text_table_row_end(struct text_table *t)
{
	if (!t->row)
		return;
	t->rows[t->nrows++] = t->row;
	t->row = NULL;
	if (t->nrows == CHUNK_ROWS)
		flush(t);
}

void text_table_free(struct text_table *t)
{
	flush(t);
	free(t->row);
	free(t->rows);
	free(t->width);
	free(t);
}
