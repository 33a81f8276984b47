# Man pages: each component adds its pages to dist_man_MANS in its fragment.
