// Back office: Flask-Admin's date pickers speak English; give them French labels.
(function ($) {
  "use strict";

  var FRENCH = {
    applyLabel: "Appliquer",
    cancelLabel: "Annuler",
    fromLabel: "Du",
    toLabel: "Au",
    weekLabel: "S",
    customRangeLabel: "Autre période",
    daysOfWeek: ["di", "lu", "ma", "me", "je", "ve", "sa"],
    monthNames: ["janv.", "févr.", "mars", "avr.", "mai", "juin",
                 "juill.", "août", "sept.", "oct.", "nov.", "déc."],
    firstDay: 0
  };

  // The picker's script loads after this one on form pages; Flask-Admin starts its pickers
  // when the page is ready, and this handler, registered first, runs before.
  $(function () {
    var picker = $.fn.daterangepicker;
    if (!picker) {
      return;
    }
    $.fn.daterangepicker = function (options, callback) {
      var withLabels = $.extend({}, options, { locale: $.extend({}, FRENCH, (options || {}).locale) });
      return picker.call(this, withLabels, callback);
    };
  });
})(window.jQuery);
