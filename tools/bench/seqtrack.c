/* Sequence-number accounting; see seqtrack.h. */
#include "seqtrack.h"

bool seqtrack_add(struct seqtrack *t, uint64_t seq, struct seqcount *n)
{
    if (seq >= t->next) {
        uint64_t shift = seq - t->next + 1;   /* >= 1 */

        /* Bit 0 becomes seq itself after the shift below. */
        t->window = shift >= 64 ? 0 : t->window << shift;
        t->window |= 1;
        t->next = seq + 1;
        n->unique++;
        return true;
    }
    {
        uint64_t back = t->next - 1 - seq;    /* 0..: distance below the newest */

        if (back >= 64 || (t->window & ((uint64_t)1 << back))) {
            n->dup++;
            return false;
        }
        t->window |= (uint64_t)1 << back;
        n->unique++;
        n->reordered++;
        return true;
    }
}
