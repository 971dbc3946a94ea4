package parquetbench

var shipmentShape = shape[Shipment]{
	name:        "shipments",
	xModel:      new(xShipment),
	toX:         func(r *Shipment) any { return xShipment(*r) },
	toRow:       shipmentRow,
	arrow:       arrowShape[Shipment]{schema: shipmentArrowSchema, append: appendShipments},
	dictColumns: dictColumns,
}

var invoiceLineShape = shape[InvoiceLine]{
	name:        "invoice_lines",
	xModel:      new(xInvoiceLine),
	toX:         func(r *InvoiceLine) any { return xInvoiceLine(*r) },
	toRow:       invoiceLineRow,
	arrow:       arrowShape[InvoiceLine]{schema: invoiceLineArrowSchema, append: appendInvoiceLines},
	dictColumns: dictColumns,
}
