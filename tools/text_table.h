/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Aligned text tables for output.c: cells in, columns out. */
#ifndef VEERCTL_TEXT_TABLE_H
#define VEERCTL_TEXT_TABLE_H

struct text_table;

/* headers: NULL-terminated; the table prints indent spaces before rows. */
struct text_table *text_table_new(const char *const *headers, int indent);
void text_table_row_begin(struct text_table *t);
/* The next cell of the row; cells beyond the headers are dropped. */
void text_table_cell(struct text_table *t, const char *text);
void text_table_row_end(struct text_table *t);
/* Print the rows not printed yet, and free. */
void text_table_free(struct text_table *t);

#endif
