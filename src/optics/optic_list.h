/* The optic types a job file can name: one row per optic, in the order docs/optics.md lists
 * them. Each row names the pp_optic_type defined in that optic's own file; this list is the
 * only place that names them all. Included twice with PP_OPTIC_ROW defined each time: in
 * optics_private.h to declare the rows, in optic_table.c to list them. */
PP_OPTIC_ROW(pp_circle_type)
PP_OPTIC_ROW(pp_square_type)
PP_OPTIC_ROW(pp_rectangle_type)
PP_OPTIC_ROW(pp_hexagon_type)
PP_OPTIC_ROW(pp_multihex_type)
PP_OPTIC_ROW(pp_obscuration_type)
PP_OPTIC_ROW(pp_transmission_type)
PP_OPTIC_ROW(pp_zernike_type)
PP_OPTIC_ROW(pp_fits_element_type)
PP_OPTIC_ROW(pp_aligner_type)
PP_OPTIC_ROW(pp_fqpm_type)
PP_OPTIC_ROW(pp_blc_type)
PP_OPTIC_ROW(pp_occulter_type)
PP_OPTIC_ROW(pp_annular_stop_type)
PP_OPTIC_ROW(pp_bar_type)
PP_OPTIC_ROW(pp_square_stop_type)
PP_OPTIC_ROW(pp_rectangular_stop_type)
PP_OPTIC_ROW(pp_quadratic_lens_type)
