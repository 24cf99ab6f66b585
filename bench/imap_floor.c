/* bench/imap_floor: the floor bench/poll compares letterbox against: bare
 * libetpan, UID FETCH BODY.PEEK[] in batches of 100 and mailmime_parse of
 * each message, nothing else.
 *   imap_floor HOST PORT USER PASSWORD
 */
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: imap_floor HOST PORT USER PASSWORD\n");
		return 64;
	}
	mailimap *imap = mailimap_new(0, NULL);
	int r = mailimap_socket_connect(imap, argv[1], (uint16_t)strtoul(argv[2], NULL, 10));
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return 69;
	if (mailimap_login(imap, argv[3], argv[4]) != MAILIMAP_NO_ERROR ||
	    mailimap_select(imap, "INBOX") != MAILIMAP_NO_ERROR)
		return 78;
	uint32_t next = imap->imap_selection_info ? imap->imap_selection_info->sel_uidnext : 0;
	size_t total = 0, parsed = 0;
	for (uint32_t from = 1; from < next; from += 100) {
		struct mailimap_set *set = mailimap_set_new_interval(from, from + 99);
		struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
		struct mailimap_section *sec = mailimap_section_new(NULL);
		mailimap_fetch_type_new_fetch_att_list_add(
		    ft, mailimap_fetch_att_new_body_peek_section(sec));
		clist *res = NULL;
		r = mailimap_uid_fetch(imap, set, ft, &res);
		mailimap_fetch_type_free(ft);
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR)
			break;
		for (clistiter *it = clist_begin(res); it; it = clist_next(it)) {
			struct mailimap_msg_att *ma = clist_content(it);
			for (clistiter *a = clist_begin(ma->att_list); a; a = clist_next(a)) {
				struct mailimap_msg_att_item *item = clist_content(a);
				if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
				    item->att_data.att_static->att_type !=
					MAILIMAP_MSG_ATT_BODY_SECTION)
					continue;
				struct mailimap_msg_att_body_section *b =
				    item->att_data.att_static->att_data.att_body_section;
				size_t idx = 0;
				struct mailmime *mime = NULL;
				if (mailmime_parse(b->sec_body_part, b->sec_length, &idx, &mime) ==
				    MAILIMF_NO_ERROR) {
					parsed++;
					mailmime_free(mime);
				}
				total++;
			}
		}
		mailimap_fetch_list_free(res);
	}
	mailimap_logout(imap);
	mailimap_free(imap);
	printf("%zu fetched, %zu parsed\n", total, parsed);
	return 0;
}
